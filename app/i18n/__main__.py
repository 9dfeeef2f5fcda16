"""``python -m app.i18n``: re-extract the UI messages and merge them into each catalog."""

from __future__ import annotations

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from app.i18n import DOMAIN, HERE, LOCALES, extract, po_path, read_catalog


def main() -> None:
    template = extract()
    with (HERE / "messages.pot").open("wb") as f:
        write_po(f, template, omit_header=False, sort_output=True)
    for locale in LOCALES:
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = (read_catalog(locale) if path.exists()
                   else Catalog(locale=locale, domain=DOMAIN, project="torch-playground"))
        catalog.update(template)
        catalog.fuzzy = False  # the header is maintained here, not a translator's draft
        with path.open("wb") as f:
            write_po(f, catalog, sort_output=True, ignore_obsolete=True, width=100)
        print(f"{path}: {len(catalog)} messages")


if __name__ == "__main__":
    main()
