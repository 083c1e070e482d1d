"""Authentication, tenancy, the audit log, key handling and request hardening."""
