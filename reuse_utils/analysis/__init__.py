"""Floor 6 — ``analysis``: what the results mean.

Statistics over seeds (:mod:`.stats`), the shallow linear model (:mod:`.linear`), panel weight
norms (:mod:`.panel_weights`), gains over scratch and control (:mod:`.gains`), captum attribution (:mod:`.attribution`), the claim evaluators
(:mod:`.evaluators`), transferability estimators and linear CKA (:mod:`.transferability`), what
Bob's depth curve reveals (:mod:`.depth_reveal`) and the claims ledger that records every verdict, failures included
(:mod:`.ledger`). Imports ``core`` … ``experiments``.
"""

from reuse_utils.analysis import depth_reveal, evaluators, linear, stats, transferability
from reuse_utils.analysis.attribution import attribution_rows, layer_panel_shares, panel_shares
from reuse_utils.analysis.gains import transfer_gains
from reuse_utils.analysis.ledger import (
           CLAIM_IDS,
           claims_table,
           load_claims,
           record_claim,
           reset_claims,
)
from reuse_utils.analysis.panel_weights import panel_weight_norms

__all__ = ["depth_reveal", "evaluators", "linear", "stats", "transferability", "attribution_rows", "layer_panel_shares", "panel_shares",
           "CLAIM_IDS", "claims_table", "load_claims", "record_claim", "reset_claims", "panel_weight_norms", "transfer_gains"]
