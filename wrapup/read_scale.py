"""The READ scale (Reference Effort Assessment Data, Bella Karr Gerlich):
the effort a question took, 1 to 6, with the short definitions the wrap-up
form shows beside each level."""

READ_LEVELS: dict[int, str] = {
    1: "Least effort: directions, hours, a quick fact; no resources consulted.",
    2: "A little more effort: minimal knowledge or skill; one resource looked at briefly.",
    3: "Some time and effort: ready-reference sources; a little instruction of the patron.",
    4: "Several resources; more thorough instruction; reference knowledge needed; "
    "perhaps a subject specialist.",
    5: "Substantial time: in-depth research help, creative searching, many resources; "
    "a subject specialist may be consulted.",
    6: "The most effort: cannot be answered on the spot; a research project, "
    "in-depth consultation, follow-up with the patron.",
}
