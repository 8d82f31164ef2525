"""Reports: programme reports and area maps (HTML with inline SVG, static plots)."""
