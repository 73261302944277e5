"""The schedule domain, pure: model and lifecycle, validation, SoC trajectory, editing helpers, JSON/CSV import
and export. No database and no protocol: storage and drivers/mqtt map these values onto their own forms."""
