"""HTML to A4 PDF through WeasyPrint (imported here only, when a PDF is asked for)."""

from __future__ import annotations

__all__ = ["html_to_pdf"]


def html_to_pdf(html: str) -> bytes:
    """Print self-contained HTML to PDF, with every URL refused: an evidence pack loads nothing."""
    import weasyprint
    from weasyprint import urls

    if hasattr(urls, "URLFetcher"):  # WeasyPrint 68+
        fetcher = urls.URLFetcher(allowed_protocols=set(), fail_on_errors=True)
    else:  # older: a plain function
        def fetcher(url: str, *args, **kwargs):
            raise ValueError(f"evidence packs load nothing: refused {url}")
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
