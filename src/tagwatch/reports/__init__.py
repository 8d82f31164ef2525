"""Reports rendered for people, offline: evidence packs (HTML, PDF), HTML reports with static plots."""

from .evidence import STATEMENT, EvidencePack, Exhibit, build_exhibit, build_pack
from .html import render_html

__all__ = ["STATEMENT", "EvidencePack", "Exhibit", "build_exhibit", "build_pack", "render_html"]
