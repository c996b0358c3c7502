// The assembler's driver: reads lines, places labels on slots, resolves label references and encodes.
#include "isa/assembler.hpp"

#include <unordered_map>

#include <fmt/format.h>

#include "isa/asm_internal.hpp"
#include "isa/helper_names.hpp"

namespace xbpf::isa {
namespace {

using asm_detail::Fixup;
using asm_detail::Item;
using asm_detail::LineInfo;
using asm_detail::Token;
using asm_detail::TokenKind;

struct LabelDef {
    std::size_t slot = 0;
    int line = 0;
    bool from_header = false;  ///< objdump symbol header; a later explicit definition may replace it
};

class Assembler {
  public:
    explicit Assembler(const AsmOptions& options) : file_(options.file_name) {}

    Result<std::vector<RawInsn>> run(std::string_view text) {
        int line_no = 0;
        std::size_t begin = 0;
        while (begin <= text.size()) {
            std::size_t end = text.find('\n', begin);
            if (end == std::string_view::npos) end = text.size();
            ++line_no;
            if (auto r = line(text.substr(begin, end - begin), line_no); !r) return std::unexpected(r.error());
            if (end == text.size()) break;
            begin = end + 1;
        }
        return encode_all();
    }

  private:
    Result<void> line(std::string_view text, int line_no) {
        const LineInfo where{&file_, line_no};
        const asm_detail::LineContent content = asm_detail::preprocess_line(text);
        switch (content.kind) {
            case asm_detail::LineContent::Kind::Empty: return {};
            case asm_detail::LineContent::Kind::HeaderLabel: {
                const std::string name(text.substr(content.begin, content.end - content.begin));
                labels_.try_emplace(name, LabelDef{slot_, line_no, true});
                return {};
            }
            case asm_detail::LineContent::Kind::Code: break;
        }
        // llvm-objdump and xbpf disasm print "<unknown>" for slots that do not decode; their raw bytes say what to
        // emit.
        if (text.substr(content.begin, content.end - content.begin) == "<unknown>") {
            if (content.bytes.size() != sizeof(RawInsn))
                return asm_detail::error_at(where, static_cast<int>(content.begin) + 1,
                                            "cannot assemble '<unknown>' without the slot's 8 raw bytes");
            Item item;
            item.line = line_no;
            item.slot = slot_++;
            item.raw = from_listing(content.bytes);
            items_.push_back(std::move(item));
            return {};
        }
        XBPF_ASM_TRY(tokens, asm_detail::tokenize(text, content.begin, content.end, where));
        std::size_t first = 0;
        // Label definitions: "name:" (possibly several, possibly followed by an instruction).
        while (first + 1 < tokens->size() && (*tokens)[first].kind == TokenKind::Ident &&
               !(*tokens)[first].text.starts_with('%') && (*tokens)[first + 1].kind == TokenKind::Punct &&
               (*tokens)[first + 1].text == ":") {
            const Token& name = (*tokens)[first];
            auto [it, inserted] = labels_.try_emplace(std::string(name.text), LabelDef{slot_, line_no, false});
            if (!inserted) {
                if (!it->second.from_header)
                    return asm_detail::error_at(
                        where, name.column,
                        fmt::format("duplicate label '{}' (first defined on line {})", name.text, it->second.line));
                it->second = LabelDef{slot_, line_no, false};
            }
            first += 2;
        }
        if ((*tokens)[first].kind == TokenKind::End) return {};
        asm_detail::LineParser parser(std::span<const Token>(*tokens).subspan(first), where);
        XBPF_ASM_TRY(item, parser.parse());
        if (item->lossy_text) apply_listing_bytes(*item, content.bytes);
        item->slot = slot_;
        slot_ += item->insn.op == Op::Lddw ? 2 : 1;
        if (item->insn.op == Op::Exit && !first_exit_) first_exit_ = item->slot;
        items_.push_back(std::move(*item));
        return {};
    }

    static RawInsn from_listing(const std::vector<std::uint8_t>& bytes) {
        auto slots = from_bytes(bytes);
        return slots && slots->size() == 1 ? slots->front() : RawInsn{};
    }

    // Some llvm-objdump texts do not say everything the bytes hold. When the listing shows the bytes and they agree
    // with every field the text did state, they supply the rest:
    //   "call N", "call -N"           src (RFC 9669 §4.3.1: 0 helper, 1 local, 2 kfunc) and, for kfuncs, off
    //   "lock *(u32 *)(..) += wS"      LLVM 14 prints the 32-bit fetch-add (imm 0x01) like the plain add
    //   "ld_pseudo rD, K, imm"         the second slot's imm (map value offset)
    // Bytes that disagree mean the text was edited: the text wins.
    static void apply_listing_bytes(Item& item, const std::vector<std::uint8_t>& bytes) {
        if (bytes.size() < sizeof(RawInsn)) return;
        auto slots = from_bytes(bytes);
        if (!slots) return;
        const RawInsn& raw = slots->front();
        const Instruction& insn = item.insn;
        if (raw.opcode != info(insn.op).opcode) return;
        switch (insn.op) {
            case Op::Call:
            case Op::CallLocal:
                if (raw.imm != insn.imm || raw.dst != 0) return;
                if (raw.src == info(Op::Call).disc_value && raw.off == 0) {
                    item.insn.op = Op::Call;
                } else if (raw.src == info(Op::CallLocal).disc_value && raw.off == 0) {
                    item.insn.op = Op::CallLocal;
                } else if (raw.src == info(Op::CallKfunc).disc_value) {
                    item.insn.op = Op::CallKfunc;
                    item.insn.off = raw.off;
                }
                return;
            case Op::AtomicAdd32:
                if (raw.dst == insn.dst && raw.src == insn.src && raw.off == insn.off &&
                    raw.imm == info(Op::AtomicFetchAdd32).disc_value)
                    item.insn.op = Op::AtomicFetchAdd32;
                return;
            case Op::Lddw:
                if (slots->size() == 2 && raw.dst == insn.dst && raw.src == insn.src && raw.off == 0 &&
                    raw.imm == insn.imm)
                    item.insn.next_imm = (*slots)[1].imm;
                return;
            default: return;
        }
    }

    // The slot a label names. bpf_conformance programs may jump to "exit" without defining it: it then names the
    // first exit instruction.
    std::optional<std::size_t> label_slot(const std::string& name) const {
        if (auto it = labels_.find(name); it != labels_.end()) return it->second.slot;
        if (name == "exit" && first_exit_) return *first_exit_;
        return std::nullopt;
    }

    Result<void> resolve(Item& item) {
        const LineInfo where{&file_, item.line};
        const auto& ref = item.label;
        if (item.fixup == Fixup::CallByName || item.fixup == Fixup::HelperName) {
            const auto local = item.fixup == Fixup::CallByName ? label_slot(ref.name) : std::nullopt;
            if (!local) {
                const auto id = helper_id(ref.name);
                if (!id) {
                    if (item.fixup == Fixup::HelperName)
                        return asm_detail::error_at(where, ref.column, fmt::format("unknown helper '{}'", ref.name),
                                                    ErrorCode::kNotFound);
                    return asm_detail::error_at(where, ref.column,
                                                fmt::format("undefined label or unknown helper '{}'", ref.name),
                                                ErrorCode::kNotFound);
                }
                item.insn.op = Op::Call;
                item.insn.imm = *id;
                return {};
            }
            item.insn.op = Op::CallLocal;
            item.fixup = Fixup::Imm;
        }
        const auto target = label_slot(ref.name);
        if (!target)
            return asm_detail::error_at(where, ref.column, fmt::format("undefined label '{}'", ref.name),
                                        ErrorCode::kNotFound);
        const std::int64_t delta = static_cast<std::int64_t>(*target) - static_cast<std::int64_t>(item.slot) - 1;
        if (item.fixup == Fixup::Off) {
            if (delta < INT16_MIN || delta > INT16_MAX)
                return asm_detail::error_at(
                    where, ref.column,
                    fmt::format("jump offset out of range: label '{}' is {} slots away (16-bit offset)", ref.name,
                                delta));
            item.insn.off = static_cast<std::int16_t>(delta);
        } else {
            if (delta < INT32_MIN || delta > INT32_MAX)
                return asm_detail::error_at(where, ref.column,
                                            fmt::format("jump offset out of range: label '{}'", ref.name));
            item.insn.imm = static_cast<std::int32_t>(delta);
        }
        return {};
    }

    Result<std::vector<RawInsn>> encode_all() {
        std::vector<RawInsn> out;
        out.reserve(slot_);
        for (Item& item : items_) {
            if (item.raw) {
                out.push_back(*item.raw);
                continue;
            }
            if (item.fixup != Fixup::None) {
                if (auto r = resolve(item); !r) return std::unexpected(r.error());
            }
            encode_one(item.insn, out);
        }
        return out;
    }

    std::string file_;
    std::vector<Item> items_;
    std::unordered_map<std::string, LabelDef> labels_;
    std::size_t slot_ = 0;
    std::optional<std::size_t> first_exit_;
};

}  // namespace

Result<std::vector<RawInsn>> assemble(std::string_view text, const AsmOptions& options) {
    Assembler assembler(options);
    return assembler.run(text);
}

}  // namespace xbpf::isa
