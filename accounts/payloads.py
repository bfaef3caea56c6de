"""What a librarian looks like on the wire (docs/protocol.md)."""

from typing import Any

from accounts.models import Librarian


def librarian_ref(librarian: Librarian) -> dict[str, Any]:
    """Who a librarian is, as colleagues see them."""
    return {
        "id": librarian.pk,
        "display_name": librarian.display_name,
        "staff_id": librarian.staff_id,
    }


def librarian_settings_payload(librarian: Librarian) -> dict[str, bool]:
    """The console's Settings tab."""
    return {
        "alert_sound": librarian.alert_sound,
        "alert_popup": librarian.alert_popup,
        "im_sound": librarian.im_sound,
    }
