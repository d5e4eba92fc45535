/* SPDX-License-Identifier: MIT */
/*
 * tools/virt/xml.c - domain XML in and out through libxml2, defensively.
 *
 * A domain file may come from anyone, so the parser runs with network
 * access off (XML_PARSE_NONET), entity substitution off (no
 * XML_PARSE_NOENT), no DTD loading or default attributes, libxml2's own
 * depth and text limits (no XML_PARSE_HUGE), a size guard before parsing,
 * and SAX hooks that stop the parser at the first DOCTYPE or entity
 * declaration: libvirt never writes either, and refusing them closes the
 * entity-expansion ("billion laughs") and external-entity holes outright.
 *
 * Edits keep the document's own whitespace: a removed element takes its
 * indentation with it, a new one copies its siblings' indentation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlsave.h>

#include "tools/virt/virt.h"

struct guard {
	const char *refused; /* why the parser was stopped, or NULL */
};

static void refuse(void *ctx, const char *why)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct guard *g = ctxt->_private;
	if (g && !g->refused)
		g->refused = why;
	xmlStopParser(ctxt);
}

static void on_internal_subset(void *ctx, const xmlChar *name,
			       const xmlChar *ext, const xmlChar *sys)
{
	(void)name, (void)ext, (void)sys;
	refuse(ctx, "has a DOCTYPE (libvirt domain XML has none; DTDs and "
		    "entities are refused)");
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type,
			   const xmlChar *pub, const xmlChar *sys,
			   xmlChar *content)
{
	(void)name, (void)type, (void)pub, (void)sys, (void)content;
	refuse(ctx, "declares an entity (refused)");
}

static void silent_structured(void *ctx, xmlErrorPtr e)
{
	(void)ctx, (void)e;
}

static void silent_generic(void *ctx, const char *msg, ...)
{
	(void)ctx, (void)msg;
}

xmlDocPtr virt_xml_parse(const char *buf, size_t len, const char *what,
			 char *err, size_t errsize)
{
	if (len > VIRT_XML_MAX_BYTES) {
		snprintf(err, errsize, "%s: %zu bytes is more than the %u a "
			 "domain document may have", what, len,
			 VIRT_XML_MAX_BYTES);
		return NULL;
	}
	if (len == 0) {
		snprintf(err, errsize, "%s: empty document", what);
		return NULL;
	}
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		snprintf(err, errsize, "%s: cannot create an XML parser", what);
		return NULL;
	}
	struct guard g = { NULL };
	ctxt->_private = &g;
	ctxt->sax->internalSubset = on_internal_subset;
	ctxt->sax->entityDecl = on_entity_decl;
	ctxt->sax->serror = silent_structured;
	ctxt->sax->error = silent_generic;
	ctxt->sax->warning = silent_generic;
	ctxt->vctxt.error = silent_generic;
	ctxt->vctxt.warning = silent_generic;
	int opts = XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR;
	xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, opts);
	if (g.refused) {
		snprintf(err, errsize, "%s %s", what, g.refused);
		if (doc)
			xmlFreeDoc(doc);
		doc = NULL;
	} else if (!doc || !ctxt->wellFormed) {
		xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
		char msg[256] = "not well-formed XML";
		if (e && e->message) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			size_t l = strlen(msg);
			while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
				msg[--l] = 0;
		}
		char pm[256];
		snprintf(err, errsize, "%s: line %d: %s", what,
			 e ? e->line : 0, virt_printable(msg, pm, sizeof(pm)));
		if (doc)
			xmlFreeDoc(doc);
		doc = NULL;
	}
	ctxt->_private = NULL;
	xmlFreeParserCtxt(ctxt);
	return doc;
}

xmlDocPtr virt_xml_read_file(const char *path, bool *decl, char *err,
			     size_t errsize)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	const char *what = strcmp(path, "-") ? path : "standard input";
	if (fd < 0) {
		snprintf(err, errsize, "cannot open %s: %s", path,
			 strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errsize, "%s is a directory, not a domain XML "
			 "file", path);
		if (fd)
			close(fd);
		return NULL;
	}
	size_t cap = VIRT_XML_MAX_BYTES + 1, len = 0;
	char *buf = virt_calloc(1, cap);
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsize, "cannot read %s: %s", what,
				 strerror(errno));
			free(buf);
			if (fd)
				close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap)
			break; /* one byte over the limit: enough to refuse */
	}
	if (fd)
		close(fd);
	if (decl) {
		/* the prolog only: an optional UTF-8 byte order mark */
		size_t o = len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3) ? 3 : 0;
		*decl = len - o >= 5 && !memcmp(buf + o, "<?xml", 5);
	}
	xmlDocPtr doc = virt_xml_parse(buf, len, what, err, errsize);
	free(buf);
	return doc;
}

void virt_quiet_xml_errors(void)
{
	xmlSetStructuredErrorFunc(NULL, silent_structured);
	xmlSetGenericErrorFunc(NULL, silent_generic);
}

static bool is_elem(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE &&
	       (!name || !strcmp((const char *)n->name, name));
}

xmlNodePtr virt_xml_child(xmlNodePtr n, const char *name)
{
	if (!n)
		return NULL;
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (is_elem(c, name) && !c->ns)
			return c;
	return NULL;
}

xmlNodePtr virt_xml_next(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->next : NULL; c; c = c->next)
		if (is_elem(c, name) && !c->ns)
			return c;
	return NULL;
}

char *virt_xml_attr(xmlNodePtr n, const char *name)
{
	if (!n)
		return NULL;
	return (char *)xmlGetNoNsProp(n, (const xmlChar *)name);
}

char *virt_xml_child_attr(xmlNodePtr n, const char *child, const char *attr)
{
	return virt_xml_attr(virt_xml_child(n, child), attr);
}

static bool blank_text(xmlNodePtr n)
{
	return n && n->type == XML_TEXT_NODE && xmlIsBlankNode(n);
}

void virt_xml_remove(xmlNodePtr n)
{
	if (!n)
		return;
	xmlNodePtr prev = n->prev;
	if (blank_text(prev)) {
		xmlUnlinkNode(prev);
		xmlFreeNode(prev);
	}
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

/* The indentation text in front of element e (NULL if none). */
static const xmlChar *indent_of(xmlNodePtr e)
{
	if (e && blank_text(e->prev))
		return e->prev->content;
	return NULL;
}

xmlNodePtr virt_xml_insert_after(xmlNodePtr sibling, const char *name)
{
	xmlNodePtr n = xmlNewNode(NULL, (const xmlChar *)name);
	if (!n)
		return NULL;
	const xmlChar *ind = indent_of(sibling);
	xmlNodePtr at = sibling;
	if (ind) {
		xmlNodePtr t = xmlNewText(ind);
		if (t)
			at = xmlAddNextSibling(at, t);
	}
	return xmlAddNextSibling(at, n);
}

xmlNodePtr virt_xml_append(xmlNodePtr parent, const char *name)
{
	xmlNodePtr last = NULL;
	for (xmlNodePtr c = parent->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			last = c;
	if (last)
		return virt_xml_insert_after(last, name);
	xmlNodePtr n = xmlNewNode(NULL, (const xmlChar *)name);
	if (n)
		xmlAddChild(parent, n);
	return n;
}

char *virt_xml_dump(xmlDocPtr doc, bool decl, size_t *len)
{
	xmlBufferPtr b = xmlBufferCreate();
	if (!b)
		return NULL;
	xmlSaveCtxtPtr s = xmlSaveToBuffer(b, "UTF-8", decl ? 0 : XML_SAVE_NO_DECL);
	if (!s) {
		xmlBufferFree(b);
		return NULL;
	}
	xmlSaveDoc(s, doc);
	xmlSaveClose(s);
	size_t n = (size_t)xmlBufferLength(b);
	char *out = virt_calloc(1, n + 2);
	memcpy(out, xmlBufferContent(b), n);
	if (n && out[n - 1] != '\n')
		out[n++] = '\n';
	out[n] = 0;
	xmlBufferFree(b);
	if (len)
		*len = n;
	return out;
}
