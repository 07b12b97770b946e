"""Expedia QuickConnect (EQC) simulator: AR, BR, BC and PARR, credentials in the body."""
