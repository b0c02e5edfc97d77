#!/usr/bin/env bash
# The navigation chart's map data: a ConfigMap holding every OpenStreetMap
# extract (*.osm.pbf) of a folder, which charts/navigation mounts read-only
# (osm.configMap) and reads env.OSM_FILE from. Tilt runs it before the chart.
#
#   scripts/osm-configmap.sh [namespace] [name]      # defaults: platform navigation-osm
#
# The folder is OSM_DIR, else the repository's data/osm, else the shared data
# folder beside the repository (../shared/data/osm), as the service looks.
# A ConfigMap holds at most 1 MiB: Andorra (534 kB) and Monaco (168 kB) fit
# together; a larger region goes on a volume (the chart's osm.persistentVolumeClaim).
set -euo pipefail

namespace=${1:-platform}
name=${2:-navigation-osm}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

dir=${OSM_DIR:-}
if [[ -z $dir ]]; then
  for candidate in "$root/data/osm" "$root/../shared/data/osm"; do
    if [[ -d $candidate ]]; then
      dir=$candidate
      break
    fi
  done
fi
shopt -s nullglob
files=("${dir:-/nonexistent}"/*.osm.pbf)
if ((${#files[@]} == 0)); then
  echo "osm-configmap: no *.osm.pbf in ${dir:-data/osm or ../shared/data/osm}; set OSM_DIR" >&2
  exit 1
fi

bytes=$(cat "${files[@]}" | wc -c)
if ((bytes > 1048576)); then
  echo "osm-configmap: the extracts in $dir take $bytes bytes, over a ConfigMap's 1 MiB;" \
    "put them on a volume and set the chart's osm.persistentVolumeClaim" >&2
  exit 1
fi

# Server-side apply: a client-side apply would copy the whole object into an annotation,
# which is limited to 256 kB.
kubectl create configmap "$name" --namespace "$namespace" \
  "${files[@]/#/--from-file=}" --dry-run=client -o yaml |
  kubectl apply --server-side --field-manager=osm-configmap -f -
