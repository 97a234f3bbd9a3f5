"""Request and response bodies of the accounts API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from elysium.kit.schemas import Strict, shallow_json
from elysium.models.user import Role

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, Field(min_length=1, max_length=256)]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str | None
    role: Role
    email_verified: bool


class RegisterRequest(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.com",
                    "password": "velvet-sapphire-2026",
                    "name": "Ada Lovelace",
                }
            ]
        },
    )

    email: EmailStr
    password: Password
    name: Name | None = None


class LoginRequest(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "ada@example.com", "password": "velvet-sapphire-2026"}]
        },
    )

    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Password
    # A six-digit code from the app, or one of the ten recovery codes (e.g. `k7m2p-x9qr4`).
    totp_code: Annotated[str, Field(pattern=r"^(\d{6}|[A-Za-z0-9]{5}-?[A-Za-z0-9]{5})$")] | None = (
        None
    )


class LoginResponse(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    user: UserRead


class SessionRead(BaseModel):
    user: UserRead
    expires_at: datetime
    two_factor_enabled: bool


class PasswordChange(Strict):
    current_password: Password
    new_password: Password


class PasswordResetRequest(Strict):
    email: Annotated[str, Field(min_length=1, max_length=320)]


class PasswordResetConfirm(Strict):
    """The token from the emailed link and the new password (same policy as registration)."""

    token: Annotated[str, Field(min_length=1, max_length=200)]
    password: Password


class EmailVerificationConfirm(Strict):
    """The token from the emailed verification link."""

    token: Annotated[str, Field(min_length=1, max_length=200)]


class EmailChange(Strict):
    """The new address and the account's password; the new address must then be verified."""

    email: EmailStr
    password: Password


class Accepted(BaseModel):
    """A request taken in; what follows happens by email."""

    detail: str


class TotpSetup(BaseModel):
    secret: str
    otpauth_uri: str


class TotpCode(Strict):
    code: Annotated[str, Field(pattern=r"^\d{6}$")]


class PasswordConfirm(Strict):
    """The account's password, asked again before a security change."""

    password: Annotated[str, Field(min_length=1, max_length=256)]


class SecondFactorConfirm(Strict):
    """The password and a current two-factor code (or an unused recovery code)."""

    password: Annotated[str, Field(min_length=1, max_length=256)]
    code: Annotated[str, Field(min_length=6, max_length=40)]


class RecoveryCodes(BaseModel):
    """Ten one-time recovery codes, shown this once: each signs in once in place of a code."""

    recovery_codes: list[str]


class RoleChange(Strict):
    role: Role


class ProfileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    email: str
    name: str | None
    phone: str | None
    date_of_birth: date | None
    preferences: dict[str, Any]
    marketing_opt_in: bool


class ProfileUpdate(Strict):
    """Fields left out stay as they are."""

    name: Name | None = None
    phone: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()-]{5,30}$")]
        | None
    ) = None
    date_of_birth: date | None = None
    preferences: dict[str, Any] | None = None
    marketing_opt_in: bool | None = None

    @model_validator(mode="after")
    def _opt_in_is_a_boolean(self) -> ProfileUpdate:
        if "marketing_opt_in" in self.model_fields_set and self.marketing_opt_in is None:
            raise ValueError("marketing_opt_in must be true or false")
        return self

    @field_validator("date_of_birth")
    @classmethod
    def _plausible_birth_date(cls, value: date | None) -> date | None:
        if value is not None and not (date(1900, 1, 1) <= value <= date.today()):
            raise ValueError("must be a real date of birth")
        return value

    @field_validator("preferences")
    @classmethod
    def _small_preferences(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and (len(value) > 50 or len(str(value)) > 5000):
            raise ValueError("too many or too large preferences")
        return shallow_json(value)


def _alpha2(value: str) -> str:
    value = value.strip().upper()
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError("must be an ISO 3166-1 alpha-2 country code, e.g. GB")
    return value


CountryCode = Annotated[str, AfterValidator(_alpha2)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AddressWrite(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "shipping",
                    "name": "Ada Lovelace",
                    "line1": "1 Bond Street",
                    "city": "London",
                    "postal_code": "W1S 1AA",
                    "country": "GB",
                    "is_default": True,
                }
            ]
        },
    )

    type: Literal["billing", "shipping"]
    name: Line | None = None
    line1: Line
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    postal_code: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)
    ]
    country: CountryCode
    is_default: bool = False


class AddressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    type: Literal["billing", "shipping"]
    name: str | None
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str
    is_default: bool
    created_at: datetime
