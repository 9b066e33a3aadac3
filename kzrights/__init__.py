"""kzrights: look up what two 2021 reports on Kazakhstan say, with exact citations."""

__version__ = "0.1.0"
