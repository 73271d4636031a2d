"""Live sources: a Kubernetes/OpenShift cluster, the products' own APIs, and
recorded snapshots of both (see ``model`` for what they hand the engine)."""
