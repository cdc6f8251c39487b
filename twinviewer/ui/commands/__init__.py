"""Commands from the twin to the asset: sign in/out, the inspector's command buttons, the
command dialog (limits, reason, confirmation, pending → confirmed/failed) and the audit trail
as timeline flags and alarm-list rows."""
