"""Every model of the application, imported in one place (for Alembic and the shell)."""

from app.auth.models import (  # noqa: F401
    ApiToken,
    HolidayRegion,
    LoginAttempt,
    PasswordResetToken,
    Region,
    Role,
    TokenPurpose,
    User,
)
from app.auth.oidc_models import OidcIdentity, OidcNonce  # noqa: F401
from app.booking.models import (  # noqa: F401
    Booking,
    BookingEvent,
    BookingStatus,
    FairnessRule,
    RequestRound,
    RoundRequest,
    RoundStatus,
    RoundWish,
    RuleKind,
    RuleScope,
    SeriesBooking,
)
from app.jobs import JobRun  # noqa: F401
from app.labs.models import (  # noqa: F401
    Kit,
    KitLoan,
    KitLoanStatus,
    Offer,
    OfferKind,
    OfferPart,
    PartLocation,
    Session,
    SessionStatus,
    Staff,
    Venue,
    VenueClosure,
    VenueKind,
    World,
)
from app.schools.models import (  # noqa: F401
    CoordSource,
    GroepEnrolment,
    HolidayPeriod,
    School,
    SchoolClass,
    SchoolKind,
    SchoolYearCount,
)
from app.transport.models import Bus, BusHire, BusPlan, BusStop, BusType, PlanStatus, RoadDistance  # noqa: F401
from app.outbox.models import OutboxEntry, OutboxKind, OutboxStatus  # noqa: F401
from app.labs.materials import OfferMaterial  # noqa: F401
