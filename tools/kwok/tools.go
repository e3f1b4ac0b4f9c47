//go:build tools

// Pins kwok (fake nodes and pods for a kubelet-less cluster) in go.mod/go.sum.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
