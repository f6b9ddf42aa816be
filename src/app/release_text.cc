// The printable release of information: plain language, in the survivor's language (English or
// Spanish), for signature. Served as HTML; the survivor's own agency only.
#include <map>

#include "app/app.h"
#include "app/impl.h"

namespace trellis::app {

namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

struct Text {
  const char* title;
  const char* intro;  // "{agency}" = recipient
  const char* what;
  const char* why;
  const char* when;  // "{from}" "{to}"
  const char* rights;
  const char* signers;
  const char* signature;
  const char* date;
  std::map<std::string, const char*> categories;
  std::map<std::string, const char*> purposes;
  std::map<std::string, const char*> relationships;
};

const Text& TextFor(const std::string& lang) {
  static const Text en{
      "Release of information",
      "You are allowing us to share some of your information with {agency}. Only the kinds of information listed "
      "below will be shared, only for the reason below, and only until the end date.",
      "What may be shared",
      "Why it is shared",
      "This release starts on {from} and ends on {to}. After that, nothing more is shared unless you sign a new one.",
      "You do not have to sign this. Saying no will not change the help you get from us. You can take back "
      "(revoke) this release at any time by telling your advocate; sharing stops at once. Notes written by your "
      "lawyer are never shared.",
      "Who signs",
      "Signature",
      "Date",
      {{"demographic", "General facts about you, such as gender, language and nationality (no names)"},
       {"identity", "Your name, birth date and identity numbers"},
       {"contact", "How to reach you: phone numbers and email"},
       {"location", "Where you live or can be found (addresses). Anyone at the agency above could see this."},
       {"trafficking_history", "What happened to you, including your recorded statement, so you are not asked again"},
       {"immigration", "Your immigration matters and relief screening"},
       {"medical", "Medical and counseling notes"},
       {"safety_plan", "Your safety plan and the people you are protected from"},
       {"case_workflow", "Case status and referrals"}},
      {{"investigation", "to investigate the crime committed against you"},
       {"prosecution", "to prosecute the people who harmed you"},
       {"immigration_relief", "to help you apply for immigration relief"},
       {"services_referral", "to refer you to services you asked for"},
       {"victim_compensation", "to apply for victim compensation"},
       {"health_care", "to arrange health care"},
       {"continued_presence", "to request Continued Presence for you"}},
      {{"survivor", "Survivor"}, {"parent", "Parent"}, {"guardian", "Guardian"}},
  };
  static const Text es{
      "Autorización para compartir información",
      "Usted nos autoriza a compartir parte de su información con {agency}. Solo se compartirá la información de "
      "la lista, solo para el motivo indicado y solo hasta la fecha de fin.",
      "Qué se puede compartir",
      "Para qué se comparte",
      "Esta autorización empieza el {from} y termina el {to}. Después no se comparte nada más, salvo que firme una "
      "nueva.",
      "No tiene que firmar. Decir que no, no cambia la ayuda que recibe de nosotros. Puede retirar (revocar) esta "
      "autorización cuando quiera, avisando a su intercesora; se deja de compartir de inmediato. Las notas de su "
      "abogado nunca se comparten.",
      "Quién firma",
      "Firma",
      "Fecha",
      {{"demographic", "Datos generales, como género, idioma y nacionalidad (sin nombres)"},
       {"identity", "Su nombre, fecha de nacimiento y números de identidad"},
       {"contact", "Cómo contactarle: teléfonos y correo electrónico"},
       {"location", "Dónde vive o dónde se le puede encontrar (direcciones). Cualquier persona de esa agencia podría verlo."},
       {"trafficking_history", "Lo que le pasó, incluida su declaración grabada, para que no se la pidan otra vez"},
       {"immigration", "Sus trámites de inmigración"},
       {"medical", "Notas médicas y de consejería"},
       {"safety_plan", "Su plan de seguridad y las personas de quienes se protege"},
       {"case_workflow", "Estado del caso y derivaciones"}},
      {{"investigation", "para investigar el delito cometido contra usted"},
       {"prosecution", "para procesar a las personas que le hicieron daño"},
       {"immigration_relief", "para ayudarle a solicitar un alivio migratorio"},
       {"services_referral", "para derivarle a los servicios que pidió"},
       {"victim_compensation", "para solicitar compensación para víctimas"},
       {"health_care", "para organizar atención médica"},
       {"continued_presence", "para solicitar Presencia Continuada (Continued Presence)"}},
      {{"survivor", "Sobreviviente"}, {"parent", "Madre o padre"}, {"guardian", "Tutor o tutora"}},
  };
  return lang == "es" ? es : en;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t pos = s.find(from);
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

const char* Lookup(const std::map<std::string, const char*>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? "" : it->second;
}

}  // namespace

Result<std::string> App::ReleaseDocument(const Principal& p, const std::string& grant_id, const std::string& lang_in,
                                         const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  auto g = impl_->store->GetGrant(grant_id);
  if (!g.ok() || g->kind != "release" || g->owner_agency_id != p.user.agency_id ||
      !policy::CanRecordReleases(p.user.role)) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "release.document", "deny", grant_id, "", request_id));
    return Status::NotFound();
  }
  const std::string lang = lang_in.empty() ? g->language : lang_in;
  if (lang != "en" && lang != "es") return Status::Invalid("must be en or es", "lang");
  TRELLIS_ASSIGN_OR_RETURN(auto views, ListGrants(p, g->survivor_id, request_id));
  const GrantView* v = nullptr;
  for (const auto& x : views) {
    if (x.id == grant_id) v = &x;
  }
  if (!v) return Status::NotFound();
  auto agency = impl_->store->GetAgency(g->recipient_agency_id);
  const Text& t = TextFor(lang);
  std::string h = "<!doctype html><html lang=\"" + lang + "\"><head><meta charset=\"utf-8\"><title>" + t.title +
                  "</title></head><body><main><h1>" + t.title + "</h1>";
  h += "<p>" + Replace(t.intro, "{agency}", "<strong>" + Escape(agency.ok() ? agency->name : "?") + "</strong>") + "</p>";
  h += "<h2>" + std::string(t.what) + "</h2><ul>";
  for (const auto& c : v->categories) h += "<li>" + std::string(Lookup(t.categories, c)) + "</li>";
  // Named evidence items, by title (read through GetEvidence: decided and audited like any read).
  for (const auto& id : v->evidence_ids) {
    auto item = GetEvidence(p, id, request_id);
    if (!item.ok()) continue;
    h += std::string("<li>") + (lang == "es" ? "Esta prueba: " : "This item of evidence: ") + "<strong>" +
         Escape(item->title) + "</strong>" + (item->date.empty() ? "" : " (" + Escape(item->date) + ")") + "</li>";
  }
  h += "</ul><h2>" + std::string(t.why) + "</h2><p>" + Lookup(t.purposes, v->purpose) + "</p>";
  h += "<p>" + Replace(Replace(t.when, "{from}", FormatDate(v->effective_at)), "{to}",
                       FormatDate(v->expires_at - 1)) + "</p>";
  h += "<p>" + std::string(t.rights) + "</p><h2>" + t.signers + "</h2>";
  for (const auto& s : v->signers) {
    h += "<p>" + std::string(Lookup(t.relationships, s.relationship)) + ": " + Escape(s.name) + "<br>" + t.signature +
         ": ______________________________ " + t.date + ": ____________</p>";
  }
  h += "<p><small>" + Escape(v->id) + "</small></p></main></body></html>";
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "release.document", "ok", grant_id, g->survivor_id, request_id, lang));
  (void)now;
  return h;
}

}  // namespace trellis::app
