"""Repository-root test wiring only: pytester for the plugin's end-to-end tests, and the
`kube_api` fixture of the test Kubernetes API server (tests/kubeapi) for every test directory."""

pytest_plugins = ["pytester", "tests.kubeapi.fixtures"]
