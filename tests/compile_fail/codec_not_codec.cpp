// expect: eddy::codec: the codec has no const member template `decode<Events>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <eddy/es/codec.hpp>

struct pinged {
    static constexpr std::string_view event_name = "pinged";
};
using events = std::variant<pinged>;

// Everything a codec of `events` needs, except decode in the failing build.
struct half_codec {
    eddy::encoded_event encode(const events&) const { return {"pinged", 1, "{}"}; }
#ifndef EDDY_COMPILE_FAIL
    template <class Events>
    Events decode(std::string_view, std::uint32_t, std::string_view) const {
        return Events{};
    }
#endif
};

int main() {
    const half_codec c;
    events e = eddy::decode_event<events>(c, "pinged", 1, "{}", "s-1", 1);
    return static_cast<int>(e.index());
}
