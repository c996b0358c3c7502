// options_for: what the verifier needs to know about one program of an object.
#include "verifier/verifier.hpp"

namespace xbpf::verifier {

VerifyOptions options_for(const object::ObjectSpec& object, const object::ProgramSpec& program) {
    VerifyOptions o;
    o.type = program.type;
    o.attach = program.expected_attach_type;
    o.gpl_compatible = object::license_is_gpl_compatible(object.license);
    o.spec = &program;
    o.attach_target = program.attach_target;
    o.program_btf = object.btf.get();
    o.maps.reserve(object.maps.size());
    for (std::size_t i = 0; i < object.maps.size(); ++i) {
        MapInfo info{object.maps[i], {}};
        // Read-only global data (.rodata, .kconfig) is frozen before programs load: its contents are known.
        if ((object.maps[i].flags & maps::kFRdonlyProg) && i < object.map_initial_data.size())
            info.frozen_value = object.map_initial_data[i];
        o.maps.push_back(std::move(info));
    }
    return o;
}

}  // namespace xbpf::verifier
