# Written by smith: resolve the transaction dnf would install, without
# installing it, and print every package with where to fetch it and its
# checksum from the repository metadata (smith.lock).
import argparse, hashlib, json, os, sys

import dnf
import dnf.rpm
import hawkey

ap = argparse.ArgumentParser()
ap.add_argument("--root", required=True)
ap.add_argument("--releasever", default="")
ap.add_argument("--reposdir", required=True)
ap.add_argument("--cachedir", required=True)
ap.add_argument("--forcearch", default="")
ap.add_argument("--context", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("specs", nargs="*")
a = ap.parse_args()

base = dnf.Base()
c = base.conf
c.read()  # the installer's dnf.conf (excludes, proxy, ...), as the dnf command reads it
c.installroot = a.root
if a.releasever:
    c.releasever = a.releasever
c.reposdir = [a.reposdir]
c.cachedir = a.cachedir
c.install_weak_deps = False
c.skip_if_unavailable = False
if a.forcearch:
    c.ignorearch = True
    c.arch = a.forcearch
    c.basearch = dnf.rpm.basearch(a.forcearch)
    c.substitutions["arch"] = a.forcearch
    c.substitutions["basearch"] = dnf.rpm.basearch(a.forcearch)
base.read_all_repos()
base.fill_sack(load_system_repo=False)
# Local RPM files all at once, before anything is marked: dnf takes no
# local package once the transaction has a job.
local = [s for s in a.specs if s.endswith(".rpm") and s.startswith("/")]
for p in base.add_remote_rpms(local) if local else []:
    base.package_install(p)
for spec in a.specs:
    if spec in local:
        continue
    elif spec.startswith("@"):
        base.read_comps(arch_filter=True)
        base.install_specs([spec])
    else:
        try:
            base.install(spec)
        except dnf.exceptions.MarkingError:
            sys.exit("Error: Unable to find a match: " + spec)
try:
    base.resolve()
except dnf.exceptions.DepsolveError as e:
    sys.exit("Error: " + str(e))

out = []
for p in sorted(base.transaction.install_set, key=lambda p: str(p)):
    nevra = "%s-%d:%s-%s.%s" % (p.name, p.epoch, p.version, p.release, p.arch)
    entry = {"nevra": nevra, "repo": p.reponame}
    if p.reponame == hawkey.CMDLINE_REPO_NAME:
        entry["path"] = p.location[len(a.context) + 1:] if p.location.startswith(a.context + "/") else p.location
        # A local file has no repository checksum: pin its bytes, so a
        # rebuilt RPM of the build context makes the lock fail, not drift.
        h = hashlib.sha256()
        with open(p.location, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        entry["size"] = os.path.getsize(p.location)
        entry["sha256"] = h.hexdigest()
    else:
        url = p.remote_location()
        if url.startswith("file://" + a.context + "/"):
            entry["path"] = url[len("file://" + a.context + "/"):]
        else:
            entry["url"] = url
        entry["size"] = p.downloadsize
        ctype, cval = p.chksum
        if hawkey.chksum_name(ctype) != "sha256":
            sys.exit("Error: %s: the repository gives a %s checksum, smith.lock needs sha256" % (nevra, hawkey.chksum_name(ctype)))
        entry["sha256"] = cval.hex()
    out.append(entry)
with open(a.out, "w") as f:
    json.dump(out, f)
print("smith: resolved %d packages" % len(out), file=sys.stderr)
