"""Static files in production: compressed, with content hashes in their names."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's storage, with the hashed names written into the ES modules'
    ``import`` statements too: the console's modules import each other, and
    after a deploy a browser must never pair a new module with an old one
    from its cache (every name changes with its content)."""

    support_js_module_import_aggregation = True
    # One pass per level of imports (console.js → console/offers.js → … →
    # socket.js → i18n.js): Django's default of 5 is too few for the console.
    max_post_process_passes = 12
