# internal_names.awk — which symbols are internal: reads "mangled<TAB>demangled" lines and
# prints the mangled name of each whose demangled name matches the regex `hide` (-v hide=...:
# `detail|internal`, which a library may extend) and not the regex `keep` (-v keep=...: names
# kept exported for now, see inger_export_map.cmake's KEEP). One definition for the link
# (inger_export_map.sh hides these) and the check (tests/abi/exported_internals.sh fails on them).
# One exception: protobuf's own types in a function's parameter list. protoc declares the
# generated classes' public methods with them (FrameworkID::_InternalParse(const char*,
# google::protobuf::internal::ParseContext*)), and a user's .proto that imports ours calls them
# directly (the classes are final); they are protobuf's interface, not ours.
BEGIN { FS = "\t" }
{
  name = $2
  parameters = ""
  open = index(name, "(")
  if (open > 0) {
    parameters = substr(name, open)
    name = substr(name, 1, open - 1)
  }
  gsub(/google::protobuf::internal::/, "", parameters)
  if ((name parameters) ~ hide && $2 !~ keep)
    print $1
}
