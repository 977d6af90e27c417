//===- PrintArtifact.cpp - A readable view of a .lmx artifact -------------===//

#include "lmc/Codegen/Artifact.h"

#include "lmx_generated.h"

using namespace mlir;

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
  const auto *data = reinterpret_cast<const uint8_t *>(bytes.data());
  flatbuffers::Verifier verifier(data, bytes.size());
  if (bytes.size() < 8 || !lmc::lmx::ModelBufferHasIdentifier(data)) {
    error = "not an lmc artifact (bad identifier)";
    return failure();
  }
  if (!lmc::lmx::VerifyModelBuffer(verifier)) {
    error = "corrupt artifact (verification failed)";
    return failure();
  }
  const lmc::lmx::Model *m = lmc::lmx::GetModel(data);
  auto str = [](const flatbuffers::String *s) {
    return s ? s->str() : std::string();
  };
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
         << (c->data() ? c->data()->size() : 0) << " bytes\n";
  return success();
}
