import pytest
from django.core.exceptions import ValidationError

from core.colors import contrast_ratio, require_text_contrast, validate_hex_color


def test_black_on_white_is_21_to_1_either_way():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)


def test_known_pairs_match_the_wcag_figures():
    # #767676 on white is the lightest grey that passes AA (4.54:1).
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#ffffff") < 4.5


def test_a_pair_that_fails_aa_is_refused_with_its_ratio():
    with pytest.raises(ValidationError) as refused:
        require_text_contrast("#ffff00", "#ffffff", what="The button's text on its colour")
    message = refused.value.messages[0]
    assert "The button's text on its colour" in message
    assert "1.07:1" in message
    require_text_contrast("#ffffff", "#1d4ed8", what="The button's text on its colour")


@pytest.mark.parametrize("value", ["", "blue", "#fff", "#12345g", "1d4ed8", "#1d4ed8 "])
def test_only_six_digit_hex_colours_are_taken(value):
    with pytest.raises(ValidationError):
        validate_hex_color(value)
    validate_hex_color("#1D4ED8")
