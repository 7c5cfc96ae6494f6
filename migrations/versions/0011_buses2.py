"""buses2: hired buses (a price per bus type, the buses hired for a day), hired buses in plans

A bus type may have a hire price (the price of one extra bus of that type for a trip when
the contract's fleet is used up). The coordinator hires buses for a day of the region
(``bus_hires``); the day's plan may use them on top of the fleet and marks them (``buses.hired``).

Revision ID: 0011_buses2
Revises: 0010_teacher_b
"""

from alembic import op
import sqlalchemy as sa


revision = "0011_buses2"
down_revision = "0010_teacher_b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bus_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hire_price", sa.Float(), nullable=True))
    with op.batch_alter_table("buses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hired", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("buses", schema=None) as batch_op:
        batch_op.alter_column("hired", server_default=None)
    op.create_table(
        "bus_hires",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bus_type_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("count > 0", name=op.f("ck_bus_hires_count_positive")),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_bus_hires_region_id_regions")),
        sa.ForeignKeyConstraint(
            ["bus_type_id"], ["bus_types.id"], name=op.f("fk_bus_hires_bus_type_id_bus_types"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_bus_hires_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bus_hires")),
        sa.UniqueConstraint("region_id", "day", "bus_type_id", name=op.f("uq_bus_hires_region_id_day_bus_type_id")),
    )


def downgrade():
    op.drop_table("bus_hires")
    with op.batch_alter_table("buses", schema=None) as batch_op:
        batch_op.drop_column("hired")
    with op.batch_alter_table("bus_types", schema=None) as batch_op:
        batch_op.drop_column("hire_price")
