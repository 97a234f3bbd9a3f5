"""Payments: recording money and talking to the payment gateways."""
