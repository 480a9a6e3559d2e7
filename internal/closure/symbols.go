package closure

import (
	"debug/elf"
	"sort"
)

// nssDB names the NSS database a libc function reads.
type nssDB string

const (
	dbPasswd nssDB = "passwd"
	dbGroup  nssDB = "group"
	dbShadow nssDB = "shadow"
	dbHosts  nssDB = "hosts"
	dbOther  nssDB = "other" // services, protocols, networks, netgroup, rpc, ethers
)

// nssSymbols are the libc functions that go through NSS, by database.
var nssSymbols = map[string]nssDB{}

func init() {
	for db, names := range map[nssDB][]string{
		dbPasswd: {"getpwnam", "getpwnam_r", "getpwuid", "getpwuid_r", "getpwent", "getpwent_r", "fgetpwent",
			"getlogin", "getlogin_r", "cuserid"},
		dbGroup: {"getgrnam", "getgrnam_r", "getgrgid", "getgrgid_r", "getgrent", "getgrent_r",
			"getgrouplist", "initgroups"},
		dbShadow: {"getspnam", "getspnam_r", "getspent", "getspent_r"},
		dbHosts: {"getaddrinfo", "getaddrinfo_a", "getnameinfo", "gethostbyname", "gethostbyname_r",
			"gethostbyname2", "gethostbyname2_r", "gethostbyaddr", "gethostbyaddr_r", "gethostent",
			"gethostent_r", "getipnodebyname", "getipnodebyaddr", "rcmd", "rcmd_af", "rexec", "rexec_af"},
		dbOther: {"getservbyname", "getservbyname_r", "getservbyport", "getservbyport_r", "getservent",
			"getprotobyname", "getprotobyname_r", "getprotobynumber", "getprotobynumber_r", "getprotoent",
			"getnetbyname", "getnetbyaddr", "getnetent", "getnetgrent", "getnetgrent_r", "innetgr", "setnetgrent",
			"getrpcbyname", "getrpcbynumber", "ether_ntohost", "ether_hostton"},
	} {
		for _, n := range names {
			nssSymbols[n] = db
		}
	}
}

// iconvSymbols load gconv modules at run time.
var iconvSymbols = map[string]bool{"iconv_open": true}

// Markers that glibc 2.34 and later define because files and dns are built
// into libc; an older libc dlopens libnss_files.so.2 and libnss_dns.so.2.
const (
	builtinFiles = "_nss_files_getpwnam_r"
	builtinDNS   = "_nss_dns_gethostbyname4_r"
	glibcMarker  = "gnu_get_libc_version"
)

// readSymbols records the watched imports and definitions of ef. Objects
// without a dynamic symbol table have neither.
func readSymbols(ef *elf.File, out *elfFile) {
	syms, err := ef.DynamicSymbols()
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF {
			if _, ok := nssSymbols[s.Name]; (ok || iconvSymbols[s.Name]) && !seen[s.Name] {
				seen[s.Name] = true
				out.imports = append(out.imports, s.Name)
			}
			continue
		}
		switch s.Name {
		case builtinFiles, builtinDNS, glibcMarker:
			if out.defines == nil {
				out.defines = map[string]bool{}
			}
			out.defines[s.Name] = true
		}
	}
	sort.Strings(out.imports)
}
