"""reports: a school's dated region membership and reversible region changes

A school's region per school year (school_regions), so reach for a past school year uses
the region the school was in then; a reassignment of schools to a region (region_changes)
keeps what it replaced, so it can be undone exactly. Place names already imported with a
naive title case ("Oude Ijsselstreek", "'S-Gravenhage") get their official spelling.

Revision ID: 0012_reports
Revises: 0011_buses2
"""

from alembic import op
import sqlalchemy as sa


revision = "0012_reports"
down_revision = "0011_buses2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "school_regions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Integer(), nullable=True),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from",
            name=op.f("ck_school_regions_valid_range"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_school_regions_region_id_regions"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_school_regions_school_id_schools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_regions")),
    )
    op.create_index(
        "ix_school_regions_school_id_valid_from", "school_regions", ["school_id", "valid_from"], unique=False
    )
    op.create_index(op.f("ix_school_regions_region_id"), "school_regions", ["region_id"], unique=False)
    op.create_table(
        "region_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("area", sa.String(length=20), nullable=False),
        sa.Column("codes", sa.String(length=5000), nullable=False),
        sa.Column("from_year", sa.Integer(), nullable=False),
        sa.Column("schools", sa.Integer(), nullable=False),
        sa.Column("teachers", sa.Integer(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_region_changes_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_region_changes_region_id_regions"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"], ["users.id"], name=op.f("fk_region_changes_undone_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_changes")),
    )

    # place names in their official spelling (app.schools.names; pure code)
    from app.schools.names import place_name

    conn = op.get_bind()
    schools = sa.table("schools", sa.column("city", sa.String), sa.column("municipality_name", sa.String))
    for col in (schools.c.city, schools.c.municipality_name):
        for (old,) in conn.execute(sa.select(col).distinct()).all():
            new = place_name(old or "")
            if old and new != old:
                conn.execute(sa.update(schools).where(col == old).values({col.name: new}))


def downgrade():
    op.drop_table("region_changes")
    op.drop_index(op.f("ix_school_regions_region_id"), table_name="school_regions")
    op.drop_index("ix_school_regions_school_id_valid_from", table_name="school_regions")
    op.drop_table("school_regions")
