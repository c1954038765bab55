#!/usr/bin/env bash
# The node behind `make demo`: init once, import sample data, show it, then serve it over TAXII 2.1.
set -euo pipefail
BIN=${BIN:-.venv/bin}
HOME_DIR=${HOME_DIR:-accord-data}
DATA=${DATA:-../shared/data}
PORT=${PORT:-8000}
accord() { "$BIN/accord" --home "$HOME_DIR" "$@"; }

[ -f "$HOME_DIR/node.toml" ] || accord init --name demo
if [ -d "$DATA/attack" ]; then
    # A small real slice: ATT&CK for ICS, ESET's STIX 2.1 events, one Unit 42 playbook (STIX 2.0).
    accord import --collection demo "$DATA/attack/ics-attack-18.1.json" "$DATA/eset/stix21" \
        "$DATA/unit42/playbook_json/IcedID_Unit42_Intel.json"
    value=waafefuvuko.com
else
    accord import --collection demo examples/
    value=198.51.100.7
fi
accord stats
accord search "$value"

# A partner who may read the demo collection, with a fresh token.
accord member list | grep -q '^demo-partner ' || accord member add demo-partner --contact soc@partner.example
accord collection grant demo --member demo-partner --read >/dev/null
TOKEN=$(accord token create --member demo-partner 2>/dev/null)
COLLECTION=$(accord collection list | awk '$2 == "demo" {print $1}')
cat <<EOT

Serving the node on http://127.0.0.1:$PORT/taxii2/ (Ctrl-C stops it). Try, in another terminal:

  curl -g -H 'Accept: application/taxii+json;version=2.1' -u 'demo-partner:$TOKEN' \\
    'http://127.0.0.1:$PORT/api/v21/collections/$COLLECTION/objects/?match[type]=indicator&limit=5'

  $BIN/python - <<'PY'
from taxii2client.v21 import Server, as_pages
server = Server("http://127.0.0.1:$PORT/taxii2/", user="demo-partner", password="$TOKEN")
collection = server.default.collections[0]
print(collection.title, sum(len(p.get("objects", [])) for p in as_pages(collection.get_objects, per_request=500)))
PY

EOT
exec "$BIN/accord" --home "$HOME_DIR" serve --port "$PORT"
