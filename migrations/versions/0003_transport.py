"""transport: stale and reviewed plans; a class may have a stop on several buses

A class larger than the largest bus is split over several buses, so a booking may have
one stop per bus (unique per bus and booking instead of per booking). A plan whose
re-planning failed is marked stale (the next job run re-plans it); a frozen plan keeps a
note of what changed after the freeze for the coordinator.

Revision ID: 0003_transport
Revises: 0002_security
"""

from alembic import op
import sqlalchemy as sa


revision = "0003_transport"
down_revision = "0002_security"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bus_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("stale", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("bus_plans", schema=None) as batch_op:
        batch_op.alter_column("review_note", server_default=None)
        batch_op.alter_column("stale", server_default=None)

    with op.batch_alter_table("bus_stops", schema=None) as batch_op:
        batch_op.drop_constraint("uq_bus_stops_booking_id", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_bus_stops_bus_id_booking_id"), ["bus_id", "booking_id"])
        batch_op.create_index(batch_op.f("ix_bus_stops_booking_id"), ["booking_id"], unique=False)


def downgrade():
    with op.batch_alter_table("bus_stops", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bus_stops_booking_id"))
        batch_op.drop_constraint(batch_op.f("uq_bus_stops_bus_id_booking_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_bus_stops_booking_id"), ["booking_id"])

    with op.batch_alter_table("bus_plans", schema=None) as batch_op:
        batch_op.drop_column("stale")
        batch_op.drop_column("review_note")
