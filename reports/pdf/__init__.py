"""The GridRoom PDF report framework: page template (document), long tables (tables), vector charts (charts)."""
