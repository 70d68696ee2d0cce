"""Every feature's tables, imported so that metadata (and Alembic) sees them all."""
from .models_base import Base, NAMING_CONVENTION, UTCDateTime, utcnow  # noqa: F401
from .orgs.models import OrgUnit  # noqa: F401
from .auth.models import Role, User  # noqa: F401
from .catalog.models import ContentPage, Course, Lesson, LessonProgress  # noqa: F401
from .progress.models import CourseCompletion  # noqa: F401
from .admin.models import ImportBatch  # noqa: F401
from .quizzes.models import AttemptAnswer, Question, Quiz, QuizAttempt  # noqa: F401
from .audit.models import AuditEntry  # noqa: F401
from .attendance.models import AttendanceRecord, TrainingSession  # noqa: F401
from .programmes.models import TrainingProgramme  # noqa: F401
from .certificates.models import Certificate  # noqa: F401
from .materials.models import Blob, CourseAttachment, CourseVersion, ManagedCourse  # noqa: F401
from .reports.models import ReportTally, ReportTallyState  # noqa: F401
