// Placeholder until the reports land.
#include "tabpilot/report/reports.h"

namespace tabpilot {

void write_data_exploration_report(const std::filesystem::path&) {}
void write_job_reports(const std::filesystem::path&, const ReportOptions&) {}

}  // namespace tabpilot
