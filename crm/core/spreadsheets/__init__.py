"""Spreadsheets in and out: reading the workbooks and CSV files people bring
(``reading``), making sense of the values they typed (``values``) and of their headers
(``headers``), and writing lists as CSV and Excel workbooks (``writing``)."""

from .writing import XLSX, XlsxBook, XlsxSheet, csv_cell, write_record, xlsx_download

__all__ = ["XLSX", "XlsxBook", "XlsxSheet", "csv_cell", "write_record", "xlsx_download"]
