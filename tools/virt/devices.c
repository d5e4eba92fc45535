/* SPDX-License-Identifier: MIT */
/*
 * tools/virt/devices.c - `pvio virt devices`: each domain's disks and
 * interfaces as pvio sees them, with the address that reaches each one
 * from inside the guest.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>

#include "tools/virt/virt.h"

#define SUB "devices"

static void usage(FILE *f)
{
	fputs("usage: pvio virt devices URI [DOMAIN] [OPTIONS]\n"
	      "       pvio virt devices --xml FILE [OPTIONS]\n"
	      "\n"
	      "Lists each domain's (or one domain's) disks and interfaces: the\n"
	      "hypervisor family, device kind, MAC, source, target and the pvio\n"
	      "address that reaches the device from inside the guest.\n"
	      "\n"
	      "  --xml FILE             read one domain XML file (- = stdin), no\n"
	      "                         connection\n"
	      "  --json                 JSON instead of a table\n"
	      "  --as kvm|xen|hyperv    treat the domains as this family\n"
	      "  --strict               exit 1 if a device is not drivable by pvio\n"
	      "  --connect-timeout S    give up connecting after S seconds (30)\n"
	      "\n"
	      "URI examples: test:///default, test:///ABS/PATH/node.xml,\n"
	      "qemu:///system.  man pvio-virt(1).\n", f);
}

struct listing {
	bool json;
	bool strict;
	bool first;
	size_t undrivable;
	enum virt_hv as;
};

static int show(struct listing *l, xmlDocPtr doc)
{
	struct virt_domain d;
	char err[512];
	if (virt_domain_read(doc, l->as, &d, err, sizeof(err)))
		return virt_fail(SUB, "%s", err);
	if (l->json) {
		if (!l->first)
			fputc(',', stdout);
		virt_domain_json(&d, stdout);
	} else {
		if (!l->first)
			fputc('\n', stdout);
		virt_domain_print(&d, stdout);
	}
	l->first = false;
	for (size_t i = 0; i < d.ndev; i++) {
		const struct virt_dev *v = &d.dev[i];
		if (v->drivable)
			continue;
		l->undrivable++;
		if (l->strict) {
			char n[160], a[64], b[200];
			virt_fail(SUB, "domain %s: %s %s: %s",
				  virt_printable(d.name, n, sizeof(n)),
				  v->cls == PVIO_CLASS_BLK ? "disk" : "interface",
				  virt_printable(*v->target ? v->target : v->mac,
						 a, sizeof(a)),
				  virt_printable(v->address, b, sizeof(b)));
		}
	}
	virt_domain_free(&d);
	return VIRT_OK;
}

static int show_domain(struct listing *l, virDomainPtr dom)
{
	const char *name = virDomainGetName(dom);
	char *xml = virDomainGetXMLDesc(dom, 0);
	char pn[160];
	virt_printable(name ? name : "?", pn, sizeof(pn));
	if (!xml)
		return virt_fail(SUB, "cannot read the XML of domain %s: %s", pn,
				 virt_lverr());
	char what[200], err[512];
	snprintf(what, sizeof(what), "the XML of domain %s", pn);
	xmlDocPtr doc = virt_xml_parse(xml, strlen(xml), what, err, sizeof(err));
	free(xml);
	if (!doc)
		return virt_fail(SUB, "%s", err);
	int r = show(l, doc);
	xmlFreeDoc(doc);
	return r;
}

static int cmp_dom(const void *a, const void *b)
{
	const char *x = virDomainGetName(*(virDomainPtr const *)a);
	const char *y = virDomainGetName(*(virDomainPtr const *)b);
	return strcmp(x ? x : "", y ? y : "");
}

int virt_cmd_devices(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "xml", required_argument, NULL, 'x' },
		{ "as", required_argument, NULL, 'a' },
		{ "strict", no_argument, NULL, 's' },
		{ "connect-timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct listing l = { .first = true };
	const char *xmlfile = NULL;
	double timeout = 30;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return VIRT_OK;
		case 'j':
			l.json = true;
			break;
		case 'x':
			xmlfile = optarg;
			break;
		case 's':
			l.strict = true;
			break;
		case 'a':
			if (virt_hv_parse(optarg, &l.as))
				return virt_usage(SUB, "--as takes kvm, xen or "
						  "hyperv, not '%s'", optarg);
			break;
		case 't':
			if (virt_parse_seconds(optarg, 3600, &timeout))
				return virt_usage(SUB, "--connect-timeout takes "
						  "seconds (0 < S <= 3600)");
			break;
		case ':':
			return virt_usage(SUB, "%s needs a value", argv[optind - 1]);
		default:
			return virt_usage(SUB, "unknown option '%s'",
					  argv[optind - 1]);
		}
	}
	int npos = argc - optind;
	if (xmlfile) {
		if (npos)
			return virt_usage(SUB, "--xml takes no URI or domain");
		virt_quiet_xml_errors();
		char err[512];
		xmlDocPtr doc = virt_xml_read_file(xmlfile, NULL, err, sizeof(err));
		if (!doc)
			return virt_fail(SUB, "%s", err);
		if (l.json)
			fputs("{\"uri\":null,\"domains\":[", stdout);
		int r = show(&l, doc);
		xmlFreeDoc(doc);
		if (l.json)
			fputs("]}\n", stdout);
		if (r)
			return r;
		return l.strict && l.undrivable ? VIRT_FAIL : VIRT_OK;
	}
	if (npos < 1 || npos > 2)
		return virt_usage(SUB, npos < 1 ? "which connection? give a URI "
				  "such as test:///default or qemu:///system"
						: "too many arguments");
	const char *uri = argv[optind];
	const char *name = npos == 2 ? argv[optind + 1] : NULL;

	virConnectPtr conn = virt_connect(SUB, uri, true, timeout);
	if (!conn)
		return VIRT_FAIL;
	int rc = VIRT_OK;
	virDomainPtr *doms = NULL;
	int n = 0;
	if (name) {
		virDomainPtr d = virDomainLookupByName(conn, name);
		if (!d)
			d = virDomainLookupByUUIDString(conn, name);
		if (!d) {
			char pn[160], pu[256];
			rc = virt_fail(SUB, "no domain '%s' on %s; `virsh -c %s "
				       "list --all` lists them",
				       virt_printable(name, pn, sizeof(pn)),
				       virt_printable(uri, pu, sizeof(pu)), pu);
			goto out;
		}
		doms = virt_calloc(1, sizeof(*doms));
		doms[0] = d;
		n = 1;
	} else {
		n = virConnectListAllDomains(conn, &doms, 0);
		if (n < 0) {
			rc = virt_fail(SUB, "cannot list the domains: %s",
				       virt_lverr());
			goto out;
		}
		qsort(doms, (size_t)n, sizeof(*doms), cmp_dom);
	}
	if (l.json) {
		fputs("{\"uri\":", stdout);
		virt_json_str(stdout, uri);
		fputs(",\"domains\":[", stdout);
	} else if (!n) {
		char pu[256];
		printf("no domains on %s\n", virt_printable(uri, pu, sizeof(pu)));
	}
	for (int i = 0; i < n; i++) {
		int r = show_domain(&l, doms[i]);
		if (r)
			rc = r;
	}
	if (l.json)
		fputs("]}\n", stdout);
	if (!rc && l.strict && l.undrivable)
		rc = VIRT_FAIL;
out:
	for (int i = 0; i < n; i++)
		virDomainFree(doms[i]);
	free(doms);
	virConnectClose(conn);
	return rc;
}
