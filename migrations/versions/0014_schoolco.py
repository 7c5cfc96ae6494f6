"""schoolco: the school coordinator role, a school's classes per school year, sign-in links

- users.role may be 'school_coordinator' (a school coordinator has a school, like a teacher);
- school_classes: a school's classes per school year (name, groep, pupils: counts only);
- password_reset_tokens.purpose: 'password' (reset, invitation) or 'login' (sign-in by e-mail link).

Revision ID: 0014_schoolco
Revises: 0013_teacher_a
"""

from alembic import op
import sqlalchemy as sa


revision = "0014_schoolco"
down_revision = "0013_teacher_a"
branch_labels = None
depends_on = None

OLD_ROLES = ("teacher", "coordinator", "programme_leader", "admin")
NEW_ROLES = OLD_ROLES + ("school_coordinator",)


def _role_check(roles) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "role", existing_type=sa.String(length=20), type_=sa.String(length=22), existing_nullable=False
        )
        batch_op.create_check_constraint(op.f("ck_users_role"), _role_check(NEW_ROLES))
        batch_op.create_check_constraint(
            op.f("ck_users_school_coordinator_has_school"), "role != 'school_coordinator' OR school_id IS NOT NULL"
        )

    with op.batch_alter_table("password_reset_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "purpose",
                sa.Enum(
                    "password", "login", name="token_purpose", native_enum=False, create_constraint=True, length=12
                ),
                nullable=False,
                server_default="password",
            )
        )

    op.create_table(
        "school_classes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("groep_min", sa.Integer(), nullable=False),
        sa.Column("groep_max", sa.Integer(), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "groep_min BETWEEN 1 AND 8 AND groep_max BETWEEN 1 AND 8", name=op.f("ck_school_classes_groep_range")
        ),
        sa.CheckConstraint("groep_min <= groep_max", name=op.f("ck_school_classes_groep_order")),
        sa.CheckConstraint("pupils BETWEEN 1 AND 40", name=op.f("ck_school_classes_pupils_range")),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_school_classes_school_id_schools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_classes")),
        sa.UniqueConstraint(
            "school_id", "school_year", "name", name=op.f("uq_school_classes_school_id_school_year_name")
        ),
    )
    with op.batch_alter_table("school_classes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_classes_school_id"), ["school_id"], unique=False)


def downgrade():
    with op.batch_alter_table("school_classes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_classes_school_id"))
    op.drop_table("school_classes")
    with op.batch_alter_table("password_reset_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_password_reset_tokens_token_purpose"), type_="check")
        batch_op.drop_column("purpose")
    op.execute("DELETE FROM users WHERE role = 'school_coordinator'")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_school_coordinator_has_school"), type_="check")
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "role", existing_type=sa.String(length=22), type_=sa.String(length=20), existing_nullable=False
        )
        batch_op.create_check_constraint(op.f("ck_users_role"), _role_check(OLD_ROLES))
