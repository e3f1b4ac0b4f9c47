//go:build tools

// Pins the helm CLI in this module's go.mod/go.sum so builds are reproducible.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
