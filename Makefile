# Every target wraps a script in hack/; read those for what happens.
.PHONY: demo test lint unit up down images bench frontend clean

demo:      ## bring up a local BuildKit + registry, build examples/hello, run it
	hack/demo
test:      ## lint, unit tests and end-to-end tests against a local BuildKit
	hack/test
lint:      ## gofmt, go vet and the package import rules
	hack/lint
unit:      ## unit tests only (end-to-end tests skip and say why)
	go test ./...
up:        ## start buildkitd and the registry, build and push the frontend image
	hack/up
down:      ## stop what hack/up started
	hack/down
images:    ## make and push the Debian test image
	hack/test-images
frontend:  ## rebuild and push the frontend image
	hack/build-frontend
bench:     ## image sizes and build times (hello, nginx)
	hack/bench
clean:     ## stop everything and delete the runtime state
	hack/down --purge
