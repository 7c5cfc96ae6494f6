"""buses: plan warnings and their review, announced pickup times, the price of an extra bus

A bus plan keeps the warnings the coordinator must see (ride over the limit, classes
without a bus, schools without plausible coordinates, pins that break a rule) and the key
of the warnings they marked as seen. The pickup time a school was told is kept, so a
re-plan holds it. A region may set the price of hiring an extra bus for a day.

Revision ID: 0008_buses
Revises: 0007_admission
"""

from alembic import op
import sqlalchemy as sa


revision = "0008_buses"
down_revision = "0007_admission"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bus_hire_price", sa.Float(), nullable=True))

    with op.batch_alter_table("bus_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warnings", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("warnings_seen", sa.String(length=64), nullable=False, server_default=""))
    with op.batch_alter_table("bus_plans", schema=None) as batch_op:
        batch_op.alter_column("warnings", server_default=None)
        batch_op.alter_column("warnings_seen", server_default=None)

    op.create_table(
        "pickup_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("pickup_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_pickup_notices_booking_id_bookings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_notices")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_pickup_notices_booking_id")),
    )


def downgrade():
    op.drop_table("pickup_notices")
    with op.batch_alter_table("bus_plans", schema=None) as batch_op:
        batch_op.drop_column("warnings_seen")
        batch_op.drop_column("warnings")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_column("bus_hire_price")
