# nn_header_functions(<header> <out-var>)
#
# Sets <out-var> to the sorted list of the function names declared in a C
# header (nn.h): identifiers starting with nn_ and followed by "(", comments
# removed first so that prose mentioning a function does not count as a
# declaration. A typedef'd function-pointer type (nn_epoch_callback) is not
# matched: its name is followed by ")", not "(". Used by the ctest scripts
# CheckExports.cmake and CheckSignatureList.cmake.

function(nn_header_functions header out_var)
    file(READ "${header}" _header)
    string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" " " _header "${_header}")
    string(REGEX REPLACE "//[^\n]*" " " _header "${_header}")
    string(REGEX MATCHALL "[ *\t\n]nn_[a-z0-9_]+[ \t]*\\(" _decls "${_header}")
    set(_declared "")
    foreach(_decl IN LISTS _decls)
        string(REGEX REPLACE "^[ *\t\n](nn_[a-z0-9_]+).*" "\\1" _name "${_decl}")
        list(APPEND _declared "${_name}")
    endforeach()
    list(REMOVE_DUPLICATES _declared)
    list(SORT _declared)
    set(${out_var} "${_declared}" PARENT_SCOPE)
endfunction()
