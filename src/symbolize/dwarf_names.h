/* SPDX-License-Identifier: MIT */
/* dwarf_names.h — C++ function names built from DWARF alone, aiming at the text c++filt
 * prints for the function's mangled name. Private to symbolize.c.
 *
 * For functions whose DWARF has no DW_AT_linkage_name anywhere on their abstract-origin and
 * specification chain: GCC leaves it out for functions with internal linkage, many inline-only
 * and static member functions, lambdas in such functions, and the SSE intrinsics. */
#ifndef PROFREG_DWARF_NAMES_H
#define PROFREG_DWARF_NAMES_H

#include <elfutils/libdw.h>

struct dwarf_names;

/* An empty cache of names and DIE scopes. NULL when out of memory. */
struct dwarf_names *dwarf_names_new(void);
void dwarf_names_free(struct dwarf_names *dn);

/* The name of the function DIE die (a subprogram or an inlined subroutine) as c++filt prints
 * a mangled name: enclosing namespaces, classes (with template arguments), local scopes
 * ("f(int)::{lambda(double)#1}"), the name with its template arguments, the parameter types,
 * " const"/" volatile" of a member function, and the return type first for a function template
 * instance. Owned by dn (valid until dwarf_names_free); NULL when the DIE has no name. */
const char *dwarf_names_function(struct dwarf_names *dn, Dwarf_Die *die);

/* The type of DIE die as c++filt prints it in a parameter list ("double const&",
 * "std::vector<int, std::allocator<int> >", "double __vector(2)"). Owned by dn; NULL when
 * out of memory. */
const char *dwarf_names_type(struct dwarf_names *dn, Dwarf_Die *die);

#endif
