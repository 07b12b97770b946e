"""Booking.com Connectivity APIs simulator (OTA XML, machine accounts, pull + acknowledge)."""
