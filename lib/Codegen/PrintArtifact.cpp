//===- PrintArtifact.cpp - A readable view of a .lmx artifact -------------===//

#include "lmc/Codegen/Artifact.h"

#include "ArtifactSeal.h"
#include "lmx_generated.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

static std::string str(const flatbuffers::String *s) {
  return s ? s->str() : std::string();
}

template <typename T>
static void printList(llvm::raw_ostream &os, const flatbuffers::Vector<T> *v) {
  os << "[";
  if (v)
    for (size_t i = 0; i < v->size(); ++i)
      os << (i ? ", " : "") << v->Get(i);
  os << "]";
}

LogicalResult mlir::lm::printArtifact(StringRef bytes, llvm::raw_ostream &os,
                                      std::string &error) {
  const lmc::lmx::Model *m = lmc::rt::openArtifact(
      reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), error);
  if (!m)
    return failure();
  os << "artifact: version " << m->version() << ", model "
     << str(m->model_type()) << " (" << m->num_layers() << " layers, hidden "
     << m->hidden_size() << ", vocab " << m->vocab_size() << ", "
     << m->max_position_embeddings() << " positions)\n";
  os << "weights: " << (m->weights() ? m->weights()->size() : 0)
     << " from " << str(m->weights_source()) << "\n";
  if (m->weights())
    for (const lmc::lmx::Weight *w : *m->weights()) {
      os << "  " << str(w->name()) << " "
         << lmc::lmx::EnumNameDType(w->dtype()) << " ";
      printList(os, w->shape());
      if (w->parts() && w->parts()->size() > 1)
        os << " (" << w->parts()->size() << " tensors stacked)";
      else if (w->parts() && w->parts()->size() == 1)
        os << " @ " << w->parts()->Get(0)->offset();
      os << "\n";
    }
  os << "state: " << (m->states() ? m->states()->size() : 0) << " buffers\n";
  if (m->states())
    for (const lmc::lmx::StateBuffer *s : *m->states()) {
      os << "  " << str(s->name()) << " "
         << lmc::lmx::EnumNameDType(s->dtype())
         << (s->per_token() ? " [batch, context] x " : " [batch] x ");
      printList(os, s->dims());
      os << "\n";
    }
  if (m->entries())
    for (const lmc::lmx::Entry *e : *m->entries()) {
      os << "entry " << str(e->name()) << ": " << str(e->symbol()) << "(";
      if (e->arguments())
        for (size_t i = 0; i < e->arguments()->size(); ++i) {
          const lmc::lmx::Argument *a = e->arguments()->Get(i);
          os << (i ? ", " : "") << lmc::lmx::EnumNameArgumentKind(a->kind());
          if (a->kind() == lmc::lmx::ArgumentKind::Weight ||
              a->kind() == lmc::lmx::ArgumentKind::State)
            os << "#" << a->index();
        }
      os << ")\n";
    }
  if (m->code())
    for (const lmc::lmx::CodeObject *c : *m->code())
      os << "code: " << str(c->target()) << " " << str(c->format()) << ", "
         << (c->data() ? c->data()->size() : 0) << " bytes, sha256 "
         << llvm::toHex(llvm::ArrayRef<uint8_t>(c->sha256()->data(),
                                                c->sha256()->size()),
                        /*LowerCase=*/true)
         << "\n";
  return success();
}

/// The file extension of a code object format.
static StringRef extensionOf(StringRef format) {
  return llvm::StringSwitch<StringRef>(format)
      .Case("elf-shared-object", "so")
      .Case("ptx", "ptx")
      .Case("cubin", "cubin")
      .Default("bin");
}

LogicalResult mlir::lm::dumpArtifactCode(StringRef bytes, StringRef dir,
                                         llvm::raw_ostream &os,
                                         std::string &error) {
  const lmc::lmx::Model *m = lmc::rt::openArtifact(
      reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), error);
  if (!m)
    return failure();
  if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    error = dir.str() + ": cannot create: " + ec.message();
    return failure();
  }
  if (!m->code())
    return success();
  for (auto [index, code] : llvm::enumerate(*m->code())) {
    std::string target = str(code->target());
    // Targets are compiler-written names; keep the file name plain anyway.
    for (char &ch : target)
      if (!llvm::isAlnum(ch) && ch != '_' && ch != '-')
        ch = '_';
    SmallString<128> path(dir);
    llvm::sys::path::append(path, "code" + std::to_string(index) + "." +
                                      target + "." +
                                      extensionOf(str(code->format())));
    std::error_code ec;
    llvm::ToolOutputFile file(path, ec, llvm::sys::fs::OF_None);
    if (ec) {
      error = path.str().str() + ": cannot write: " + ec.message();
      return failure();
    }
    StringRef data;
    if (code->data())
      data = StringRef(reinterpret_cast<const char *>(code->data()->data()),
                       code->data()->size());
    // PTX is stored NUL-terminated for the driver; the file is plain text.
    if (str(code->format()) == "ptx")
      data = data.rtrim('\0');
    file.os() << data;
    file.os().flush();
    if (file.os().has_error()) {
      error = path.str().str() + ": write failed";
      file.os().clear_error();
      return failure(); // ToolOutputFile removes the partial file
    }
    file.keep();
    os << path << " (" << str(code->format()) << ", " << data.size()
       << " bytes)\n";
  }
  return success();
}
