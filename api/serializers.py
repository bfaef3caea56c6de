"""What the REST API sends (docs/api.md). Read-only: every write goes through the sockets.

Lines reach a serializer only as a queryset the caller chose: the patron's
serializer reads them itself, through ``Message.objects.patron_visible()``,
so no view can hand it a Librarian Note.
"""

from typing import Any
from zoneinfo import ZoneInfo

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Librarian, Library
from chat.availability import REASONS, STATES, Availability, availability_message
from chat.models import ChatSession, Message
from queues.hours import queue_hours
from queues.models import Queue
from surveys.history import RATING_VALUES
from surveys.models import SurveyAnswer

# The largest id there can be: ids are BigAutoFields, 64-bit signed integers
# on SQLite and PostgreSQL alike. A bigger one is refused before it reaches
# the database, which can't take it as a parameter (SQLite raises an
# OverflowError).
MAX_ID = 2**63 - 1


class BlankAsNullCharField(serializers.CharField):
    """An optional text stored as "" that the API shows as null, like the socket payloads."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value: str) -> str | None:  # type: ignore[override]
        return value or None


# --- Public status ------------------------------------------------------------


class LibraryRefSerializer(serializers.ModelSerializer[Library]):
    class Meta:
        model = Library
        fields = ["slug", "name"]
        read_only_fields = fields


class QueueStatusSerializer(serializers.Serializer[dict[str, Any]]):
    """A queue and its availability (chat/availability.py: the rule /ask/ and the widget use)."""

    slug = serializers.CharField(source="queue.slug", read_only=True)
    name = serializers.CharField(source="queue.name", read_only=True)
    libraries = serializers.SerializerMethodField()
    state = serializers.ChoiceField(
        choices=STATES,
        source="availability.state",
        read_only=True,
        help_text="open; busy (open, but every librarian on is at capacity: a patron may "
        "wait); closed (switched off, outside hours, a holiday, or nobody on).",
    )
    open = serializers.BooleanField(
        source="availability.open",
        read_only=True,
        help_text="A patron asking now reaches the queue: state is open or busy.",
    )
    reason = serializers.ChoiceField(
        choices=REASONS,
        source="availability.reason",
        read_only=True,
        help_text="Why the state is what it is.",
    )
    message = serializers.SerializerMethodField(
        help_text="One sentence for a patron, in the language asked for (?lang= or "
        'Accept-Language), such as "Chat is closed. It opens again Monday 9:00 AM '
        '(Central Time)."'
    )
    next_opening = serializers.SerializerMethodField(
        help_text="When the hours next begin, in the queue's zone with its offset, when hours "
        "close the queue (outside_hours, holiday); else null."
    )
    time_zone = serializers.CharField(
        source="availability.time_zone",
        read_only=True,
        help_text="The IANA name of the zone the queue's hours are in.",
    )
    librarians_online = serializers.IntegerField(
        source="availability.librarians_online",
        read_only=True,
        help_text="How many librarians monitor the queue now.",
    )
    waiting = serializers.IntegerField(
        source="availability.waiting",
        read_only=True,
        help_text="How many patron requests wait to be picked up.",
    )
    ask_url = serializers.SerializerMethodField(help_text="The queue's chat form.")

    @extend_schema_field(LibraryRefSerializer(many=True))
    def get_libraries(self, status: dict[str, Any]) -> list[dict[str, Any]]:
        libraries = queue_hours(status["queue"]).libraries
        return LibraryRefSerializer(libraries, many=True).data  # type: ignore[return-value]

    def get_message(self, status: dict[str, Any]) -> str:
        return availability_message(status["availability"])

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_next_opening(self, status: dict[str, Any]) -> str | None:
        availability: Availability = status["availability"]
        if availability.next_opening is None:
            return None
        return availability.next_opening.astimezone(ZoneInfo(availability.time_zone)).isoformat()

    @extend_schema_field(OpenApiTypes.URI)
    def get_ask_url(self, status: dict[str, Any]) -> str:
        url = status["queue"].get_absolute_url()
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class StatusSerializer(serializers.Serializer[dict[str, Any]]):
    queues = QueueStatusSerializer(many=True, read_only=True)


class ErrorSerializer(serializers.Serializer[dict[str, Any]]):
    """Every error: a sentence to show a person (validation errors name their field instead)."""

    detail = serializers.CharField(read_only=True)


# A refused filter: each field named, with what is wrong with it.
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"queue": ["A valid integer is required."]},
}


# --- The patron's own session ----------------------------------------------------


PAGE_URL_HELP = (
    "A pushed page's address (kind page, its title in text): an http or https "
    "address; null for every other line."
)


class PatronLineSerializer(serializers.ModelSerializer[Message]):
    """A line as the patron may read it: no visibility, no staff ids, the patron's numbering."""

    seq = serializers.IntegerField(
        source="patron_seq",
        read_only=True,
        help_text="The patron's own numbering: 1, 2, 3 … over the lines the patron may "
        "read, with no gaps (the patron socket's numbers).",
    )
    author = serializers.CharField(
        source="author_name",
        read_only=True,
        help_text="The patron's screen name, the librarian's display name, or empty for "
        "system lines.",
    )
    url = BlankAsNullCharField(help_text=PAGE_URL_HELP)

    class Meta:
        model = Message
        fields = ["seq", "kind", "author", "text", "url", "created_at"]
        read_only_fields = fields


class PatronChatSerializer(serializers.ModelSerializer[ChatSession]):
    queue = serializers.CharField(source="queue.name", read_only=True)
    library = serializers.CharField(source="library.name", read_only=True)
    librarian = serializers.CharField(
        source="primary.display_name",
        read_only=True,
        allow_null=True,
        help_text="The display name of the librarian chatting now, or null.",
    )
    closed_by = BlankAsNullCharField(help_text="patron, librarian, system or null.")
    has_email = serializers.SerializerMethodField()
    transcript_sent = serializers.SerializerMethodField()
    messages = serializers.SerializerMethodField(
        help_text="The lines the patron may read, by seq: 1, 2, 3 … with no gaps. "
        "Librarian Notes are never here, nor counted."
    )

    class Meta:
        model = ChatSession
        fields = [
            "state",
            "patron_name",
            "queue",
            "library",
            "librarian",
            "created_at",
            "closed_by",
            "has_email",
            "transcript_sent",
            "messages",
        ]
        read_only_fields = fields

    def get_has_email(self, session: ChatSession) -> bool:
        return bool(session.patron_email)

    def get_transcript_sent(self, session: ChatSession) -> bool:
        return session.transcript_sent_at is not None

    @extend_schema_field(PatronLineSerializer(many=True))
    def get_messages(self, session: ChatSession) -> list[dict[str, Any]]:
        # The one visibility rule, read here and nowhere else for a patron.
        lines = Message.objects.patron_visible().filter(session=session).order_by("patron_seq")
        return PatronLineSerializer(lines, many=True).data  # type: ignore[return-value]


# --- Staff: Chat History --------------------------------------------------------


class LibrarianRefSerializer(serializers.ModelSerializer[Librarian]):
    class Meta:
        model = Librarian
        fields = ["id", "display_name", "staff_id"]
        read_only_fields = fields


class QueueRefSerializer(serializers.ModelSerializer[Queue]):
    class Meta:
        model = Queue
        fields = ["id", "slug", "name"]
        read_only_fields = fields


class LibraryIdRefSerializer(serializers.ModelSerializer[Library]):
    class Meta:
        model = Library
        fields = ["id", "slug", "name"]
        read_only_fields = fields


class StaffLineSerializer(serializers.ModelSerializer[Message]):
    """A line of the staff record. Librarian Notes are included, with note true."""

    note = serializers.SerializerMethodField(help_text="True for a Librarian Note (staff only).")
    author = serializers.CharField(source="author_name", read_only=True)
    author_id = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The librarian who said it; null for the patron and system lines.",
    )

    url = BlankAsNullCharField(help_text=PAGE_URL_HELP)

    class Meta:
        model = Message
        fields = ["seq", "kind", "note", "author", "author_id", "text", "url", "created_at"]
        read_only_fields = fields

    def get_note(self, message: Message) -> bool:
        return message.visibility == Message.Visibility.STAFF


class PatronRatingSerializer(serializers.ModelSerializer[SurveyAnswer]):
    """The patron's answer to the survey after the chat: read-only, as everywhere."""

    helped = BlankAsNullCharField(
        help_text='"Did you get the help you needed?": yes, partly, no, or null (not answered).'
    )
    rating = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="1 (poor) to 5 (excellent), or null."
    )
    comment = BlankAsNullCharField(help_text="At most 2,000 characters, or null.")
    language = serializers.CharField(
        read_only=True, help_text="The language the patron answered in (en, es, fr)."
    )

    class Meta:
        model = SurveyAnswer
        fields = ["helped", "rating", "comment", "language", "created_at"]
        read_only_fields = fields


class StaffSessionSerializer(serializers.ModelSerializer[ChatSession]):
    """A session of Chat History: the staff record, the patron's details included."""

    # The view's queryset loads queue, library and primary with the session.

    patron_email = BlankAsNullCharField(help_text="null when the patron gave none (anonymous).")
    queue = QueueRefSerializer(read_only=True)
    library = LibraryIdRefSerializer(read_only=True)
    primary = LibrarianRefSerializer(
        read_only=True,
        allow_null=True,
        help_text="The librarian holding the session (or who held it when it ended).",
    )
    closed_by = BlankAsNullCharField(help_text="patron, librarian, system or null.")
    patron_rating = serializers.SerializerMethodField(
        help_text="The patron's answer to the survey after the chat, or null (not answered, "
        "or not offered: a chat no librarian answered). Nobody can change it."
    )

    class Meta:
        model = ChatSession
        fields = [
            "id",
            "state",
            "patron_name",
            "patron_email",
            "question",
            "queue",
            "library",
            "primary",
            "created_at",
            "accepted_at",
            "closed_at",
            "closed_by",
            "transcript_sent_at",
            "last_seq",
            "patron_rating",
        ]
        read_only_fields = fields

    @extend_schema_field(PatronRatingSerializer(allow_null=True))
    def get_patron_rating(self, session: ChatSession) -> dict[str, Any] | None:
        # Loaded with the session by the views (select_related), or none.
        answer = getattr(session, "survey_answer", None)
        return PatronRatingSerializer(answer).data if answer is not None else None


class StaffSessionDetailSerializer(StaffSessionSerializer):
    messages = serializers.SerializerMethodField(
        help_text="Every line by seq, Librarian Notes included (the staff record)."
    )

    class Meta(StaffSessionSerializer.Meta):
        fields = [*StaffSessionSerializer.Meta.fields, "messages"]
        read_only_fields = fields

    @extend_schema_field(StaffLineSerializer(many=True))
    def get_messages(self, session: ChatSession) -> list[dict[str, Any]]:
        lines = Message.objects.filter(session=session).order_by("seq")
        return StaffLineSerializer(lines, many=True).data  # type: ignore[return-value]


class SessionFilterSerializer(serializers.Serializer[dict[str, Any]]):
    """The Chat History filters, as query parameters of ``GET /api/v1/sessions/``."""

    queue = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="A queue id: only that queue's sessions.",
    )
    librarian = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="A librarian id: only sessions they hold or held last (the primary).",
    )
    date_from = serializers.DateField(
        required=False, help_text="Sessions started on or after this day (YYYY-MM-DD)."
    )
    date_to = serializers.DateField(
        required=False, help_text="Sessions started on or before this day (YYYY-MM-DD)."
    )
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Matches the patron's name, email or question, or any line "
        "(Librarian Notes included).",
    )
    rating = serializers.ChoiceField(
        required=False,
        choices=RATING_VALUES,
        help_text="The patron's rating: answered (any answer), none (no answer), "
        "helped-yes, helped-partly, helped-no, or rating-1 … rating-5.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise serializers.ValidationError({"date_to": "date_to is before date_from."})
        return attrs
