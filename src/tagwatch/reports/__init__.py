"""Reports rendered for people, offline: evidence packs (HTML, PDF), programme, AAMR and area reports
(HTML with inline SVG maps and static plots)."""

from .evidence import STATEMENT, EvidencePack, Exhibit, build_exhibit, build_pack
from .html import render_html

__all__ = ["STATEMENT", "EvidencePack", "Exhibit", "build_exhibit", "build_pack", "render_html"]
