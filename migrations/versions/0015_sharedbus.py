"""sharedbus: the detour a shared bus may make between two venues (a region setting)

Classes of sessions with the same start and end share a bus where that is cheaper: at the same
venue, or at venues at most ``regions.bus_share_detour_minutes`` apart by road (0: the same venue
only; default 10). A shared bus is a row of one plan whose stops name classes of several sessions:
no other change to the tables.

Revision ID: 0015_sharedbus
Revises: 0014_schoolco
"""

from alembic import op
import sqlalchemy as sa


revision = "0015_sharedbus"
down_revision = "0014_schoolco"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bus_share_detour_minutes", sa.Integer(), nullable=False, server_default="10"))
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_regions_bus_share_detour_not_negative"), "bus_share_detour_minutes >= 0"
        )


def downgrade():
    # the check constraint first: SQLite's batch copy would otherwise keep it on a missing column
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_regions_bus_share_detour_not_negative"), type_="check")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_column("bus_share_detour_minutes")
