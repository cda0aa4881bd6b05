"""D-Catalog (ศูนย์รวมพฤติกรรมความดี): Thailand's catalog of recognised good deeds."""

__version__ = "0.1.0"
