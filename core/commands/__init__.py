"""Manual device commands: validated and permission-checked in core, sent through a gateway, audited."""
