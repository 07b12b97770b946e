"""Channel Manager: sync engine, platform adapters, inbound pipeline, iCal."""
