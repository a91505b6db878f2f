"""Text that spreadsheets open safely: a cell starting with = + - @ (or a tab or carriage return) is a
formula to Excel, LibreOffice and Google Sheets ("CSV injection"). Such cells get a leading apostrophe,
the OWASP recommendation, which spreadsheets show as text and hide."""

FORMULA_START = "^[=+\\-@\\t\\r]"


def formula_safe_sql(expr: str) -> str:
    """SQL for the text of ``expr`` made safe to open in a spreadsheet (NULL stays NULL)."""
    return f"CASE WHEN regexp_matches({expr}, '{FORMULA_START}') THEN '''' || {expr} ELSE {expr} END"


def formula_safe(text: str | None) -> str | None:
    """The same rule in Python."""
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text
