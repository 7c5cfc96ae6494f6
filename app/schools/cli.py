"""`flask schools …`: school data (DUO import)."""
from flask.cli import AppGroup

schools_cli = AppGroup("schools", help="School data: DUO import.")
